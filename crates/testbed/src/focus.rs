//! A testbed Jitsi focus (jicofo's side of the conference request, seed
//! 002): an XEP-0114 component (e.g. `focus.localhost`) that answers
//! ConferenceIqs, and a small HTTP endpoint (`POST /conference-request/v1`)
//! speaking the JSON form.
//!
//! On a request for a room it does not have yet, the focus joins the MUC
//! room as `focus` from `focus@JID/focus` (creating it: it is the owner)
//! and configures it (otherwise the defaults, but non-anonymous, as
//! Jitsi rooms are: clients know the focus by its real JID), and only then answers
//! `ready='true'` with `focusjid` = that JID. Its disco#info announces the
//! focus namespace (clients find it so). Configurable
//! ([`FocusOptions`]): `ready='false'` N times first (per room), a `vnode`
//! redirect (the room is then also set up on the visitor node's MUC domain,
//! [`visitor_muc_domain`]), properties in the answer, and who may create
//! rooms.
//!
//! "Authenticated" in the testbed: with `auth_domains` set, a requester
//! whose JID's domain is one of them (e.g. `localhost`, the accounts of the
//! test server). HTTP requests have no JID and are never authenticated.
//! Unauthenticated requests for rooms the focus has not set up yet get
//! `not-authorized` (HTTP 403); a request without a room JID on the
//! focus's MUC domain gets `bad-request` (HTTP 400). Without `auth_domains` everyone may create.
//!
//! [`Core`] is the logic on plain elements (unit-tested here); [`serve`]
//! drives it with a component stream and a TCP listener.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minidom::Element;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::component::{ComponentStream, Link, NS, error, stanza};
use confab_proto::focus::{self as proto, Conference, visitor_muc_domain};
use confab_proto::muc::StatusCode;
use confab_proto::{nc, ns, owner};

/// What the focus does.
#[derive(Debug, Clone)]
pub struct FocusOptions {
    /// The component's JID (`focus.localhost`).
    pub jid: String,
    /// The main MUC service (`conference.localhost`).
    pub muc_domain: String,
    /// Answer `ready='false'` this many times per room before `true`.
    pub not_ready: u32,
    /// Redirect every requester to this visitor node.
    pub vnode: Option<String>,
    /// Properties in every `ready` answer.
    pub properties: Vec<(String, String)>,
    /// If set, only requesters on these domains may have new rooms set up.
    pub auth_domains: Option<Vec<String>>,
    /// Serve HTTPS instead of HTTP: the certificate chain and key (PEM
    /// files; the test Prosody's `certs/localhost.crt` and `.key` do).
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl FocusOptions {
    pub fn new(jid: &str) -> FocusOptions {
        FocusOptions {
            jid: jid.to_string(),
            muc_domain: super::MUC_DOMAIN.to_string(),
            not_ready: 0,
            vnode: None,
            properties: Vec::new(),
            auth_domains: None,
            tls: None,
        }
    }

    /// The full JID the focus joins rooms from (and names as `focusjid`).
    pub fn focus_jid(&self) -> String {
        format!("focus@{}/focus", self.jid)
    }
}

/// A refusal: the XMPP condition (403 for `not-authorized`, else 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub condition: &'static str,
    pub text: String,
}

impl Refusal {
    fn new(condition: &'static str, text: impl Into<String>) -> Refusal {
        Refusal {
            condition,
            text: text.into(),
        }
    }

    pub fn http_status(&self) -> u16 {
        if self.condition == "not-authorized" {
            403
        } else {
            400
        }
    }
}

/// Who waits for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Waiter {
    Iq { from: String, id: String },
    External(u64),
}

/// A requester waiting for a room's setup, with the session id for its
/// answer.
type Waiting = (Waiter, Option<String>);

/// What the core wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// A stanza for the component stream.
    Send(Element),
    /// The answer for an external (HTTP) request.
    Answer {
        waiter: u64,
        answer: Result<Conference, Refusal>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Setup {
    Joining,
    Configuring,
    Ready,
    Failed(Refusal),
}

/// The focus's logic, on plain elements.
#[derive(Debug)]
pub struct Core {
    opts: FocusOptions,
    /// MUC rooms (bare JIDs) the focus sets up or has.
    rooms: HashMap<String, Setup>,
    /// Per requested room: the MUC rooms it needs and who waits (with
    /// the session id for their answer).
    conferences: HashMap<String, (Vec<String>, Vec<Waiting>)>,
    /// `ready='false'` answers given per room.
    not_ready_given: HashMap<String, u32>,
    /// Instant-configuration IQ ids → room.
    configs: HashMap<String, String>,
    next_id: u64,
}

impl Core {
    pub fn new(opts: FocusOptions) -> Core {
        Core {
            opts,
            rooms: HashMap::new(),
            conferences: HashMap::new(),
            not_ready_given: HashMap::new(),
            configs: HashMap::new(),
            next_id: 0,
        }
    }

    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("focus-{}", self.next_id)
    }

    fn ready_answer(&self, room: &str, session_id: Option<String>) -> Conference {
        Conference {
            room: Some(room.to_string()),
            ready: Some(true),
            focus_jid: Some(self.opts.focus_jid()),
            vnode: self.opts.vnode.clone(),
            session_id,
            properties: self.opts.properties.clone(),
            ..Conference::default()
        }
    }

    /// A conference request from `waiter`; `authenticated` as described
    /// in the module documentation.
    fn request(&mut self, waiter: Waiter, req: &Conference, authenticated: bool) -> Vec<Out> {
        let room = match req.room.as_deref().map(jid::BareJid::new) {
            Some(Ok(r)) if r.node().is_some() && r.domain().as_str() == self.opts.muc_domain => {
                r.to_string()
            }
            Some(Ok(r)) if r.node().is_some() => {
                let r = Refusal::new(
                    "bad-request",
                    format!("{r} is not on {}", self.opts.muc_domain),
                );
                return vec![self.answer(waiter, Err(r))];
            }
            Some(_) => {
                let r = Refusal::new("bad-request", "the room is not a room JID");
                return vec![self.answer(waiter, Err(r))];
            }
            None => {
                let r = Refusal::new("bad-request", "the request names no room");
                return vec![self.answer(waiter, Err(r))];
            }
        };
        let known = self.conferences.contains_key(&room);
        if !known && !authenticated {
            let r = Refusal::new(
                "not-authorized",
                format!("{room} does not exist yet and you are not authenticated"),
            );
            return vec![self.answer(waiter, Err(r))];
        }
        // A session id for the requester (kept if it brought one).
        let session_id = req.session_id.clone().or_else(|| {
            authenticated.then(|| {
                self.next_id += 1;
                format!("session-{}", self.next_id)
            })
        });
        let mut out = Vec::new();
        if !known {
            let mut rooms = vec![room.clone()];
            if let Some(vnode) = &self.opts.vnode {
                let (node, domain) = room.split_once('@').expect("a room JID");
                rooms.push(format!("{node}@{}", visitor_muc_domain(domain, vnode)));
            }
            for r in &rooms {
                if !self.rooms.contains_key(r) {
                    self.rooms.insert(r.clone(), Setup::Joining);
                    out.push(Out::Send(self.join_presence(r)));
                }
            }
            self.conferences.insert(room.clone(), (rooms, Vec::new()));
        }
        let given = self.not_ready_given.entry(room.clone()).or_insert(0);
        if *given < self.opts.not_ready {
            *given += 1;
            let answer = Conference {
                room: Some(room.clone()),
                ready: Some(false),
                session_id,
                ..Conference::default()
            };
            out.push(self.answer(waiter, Ok(answer)));
            return out;
        }
        match self.conference_state(&room) {
            Some(Ok(())) => {
                let answer = self.ready_answer(&room, session_id);
                out.push(self.answer(waiter, Ok(answer)));
            }
            Some(Err(refusal)) => out.push(self.answer(waiter, Err(refusal))),
            None => {
                let entry = self.conferences.get_mut(&room).expect("known now");
                entry.1.push((waiter, session_id));
            }
        }
        out
    }

    /// `Some(Ok)` when every room of the conference is ready, `Some(Err)`
    /// when one failed, `None` while under way.
    fn conference_state(&self, room: &str) -> Option<Result<(), Refusal>> {
        let (rooms, _) = self.conferences.get(room)?;
        let mut all = true;
        for r in rooms {
            match self.rooms.get(r) {
                Some(Setup::Ready) => {}
                Some(Setup::Failed(e)) => return Some(Err(e.clone())),
                _ => all = false,
            }
        }
        all.then_some(Ok(()))
    }

    fn join_presence(&self, room: &str) -> Element {
        stanza("presence")
            .attr(nc("from"), self.opts.focus_jid())
            .attr(nc("to"), format!("{room}/focus"))
            .append(Element::builder("x", ns::MUC).build())
            .build()
    }

    fn answer(&self, waiter: Waiter, answer: Result<Conference, Refusal>) -> Out {
        match waiter {
            Waiter::External(waiter) => Out::Answer { waiter, answer },
            Waiter::Iq { from, id } => {
                let iq = stanza("iq")
                    .attr(nc("from"), self.opts.jid.as_str())
                    .attr(nc("to"), from)
                    .attr(nc("id"), id);
                Out::Send(match answer {
                    Ok(c) => iq.attr(nc("type"), "result").append(c.to_element()).build(),
                    Err(r) => iq
                        .attr(nc("type"), "error")
                        .append(
                            error(
                                if r.condition == "not-authorized" {
                                    "auth"
                                } else {
                                    "modify"
                                },
                                r.condition,
                                &r.text,
                            )
                            .build(),
                        )
                        .build(),
                })
            }
        }
    }

    /// Answers everyone waiting for conferences that are now settled.
    fn settle(&mut self) -> Vec<Out> {
        let settled: Vec<(String, Result<(), Refusal>)> = self
            .conferences
            .iter()
            .filter(|(_, (_, waiters))| !waiters.is_empty())
            .filter_map(|(room, _)| self.conference_state(room).map(|s| (room.clone(), s)))
            .collect();
        let mut out = Vec::new();
        for (room, state) in settled {
            let waiters = std::mem::take(&mut self.conferences.get_mut(&room).expect("room").1);
            for (w, session_id) in waiters {
                let answer = match &state {
                    Ok(()) => Ok(self.ready_answer(&room, session_id)),
                    Err(e) => Err(e.clone()),
                };
                out.push(self.answer(w, answer));
            }
        }
        out
    }

    /// A request over HTTP (never authenticated: it may set up rooms
    /// only when no authentication is asked for).
    pub fn http_request(&mut self, waiter: u64, req: &Conference) -> Vec<Out> {
        let open = self.opts.auth_domains.is_none();
        self.request(Waiter::External(waiter), req, open)
    }

    /// A stanza from the component stream.
    pub fn stanza(&mut self, el: &Element) -> Vec<Out> {
        let from = el.attr("from").unwrap_or_default().to_string();
        let bare_from = from.split('/').next().unwrap_or_default().to_string();
        if el.is("iq", NS) {
            let id = el.attr("id").unwrap_or_default().to_string();
            match el.attr("type") {
                Some("set") | Some("get") => {
                    let waiter = Waiter::Iq {
                        from: from.clone(),
                        id,
                    };
                    let Some(payload) = el.children().next() else {
                        let r = Refusal::new("bad-request", "an IQ without payload");
                        return vec![self.answer(waiter, Err(r))];
                    };
                    if payload.is("query", ns::DISCO_INFO) && el.attr("type") == Some("get") {
                        // What it is: found by clients that look for a focus.
                        let feature = |var: &str| {
                            Element::builder("feature", ns::DISCO_INFO)
                                .attr(nc("var"), var)
                                .build()
                        };
                        let query = Element::builder("query", ns::DISCO_INFO)
                            .append(
                                Element::builder("identity", ns::DISCO_INFO)
                                    .attr(nc("category"), "component")
                                    .attr(nc("type"), "focus")
                                    .attr(nc("name"), "confab testbed focus")
                                    .build(),
                            )
                            .append(feature(ns::DISCO_INFO))
                            .append(feature(proto::NS))
                            .build();
                        return vec![Out::Send(
                            stanza("iq")
                                .attr(nc("from"), el.attr("to").unwrap_or(&self.opts.jid))
                                .attr(nc("to"), from.as_str())
                                .attr(nc("id"), el.attr("id").unwrap_or_default())
                                .attr(nc("type"), "result")
                                .append(query)
                                .build(),
                        )];
                    }
                    if !payload.is("conference", proto::NS) || el.attr("type") != Some("set") {
                        return vec![Out::Send(
                            stanza("iq")
                                .attr(nc("from"), el.attr("to").unwrap_or(&self.opts.jid))
                                .attr(nc("to"), from.as_str())
                                .attr(nc("id"), el.attr("id").unwrap_or_default())
                                .attr(nc("type"), "error")
                                .append(error("cancel", "service-unavailable", "").build())
                                .build(),
                        )];
                    }
                    let req =
                        match Conference::from_element(payload) {
                            Ok(c) => c,
                            Err(e) => {
                                return vec![self.answer(
                                    waiter,
                                    Err(Refusal::new("bad-request", e.to_string())),
                                )];
                            }
                        };
                    let domain = bare_from
                        .split_once('@')
                        .map_or(bare_from.as_str(), |(_, d)| d);
                    let authenticated = match &self.opts.auth_domains {
                        None => true,
                        Some(domains) => domains.iter().any(|d| d == domain),
                    };
                    return self.request(waiter, &req, authenticated);
                }
                Some("result") | Some("error") => {
                    if let Some(room) = self.configs.remove(&id) {
                        let state = if el.attr("type") == Some("result") {
                            Setup::Ready
                        } else {
                            Setup::Failed(Refusal::new(
                                "undefined-condition",
                                format!("{room} refused the focus's configuration"),
                            ))
                        };
                        self.rooms.insert(room, state);
                        return self.settle();
                    }
                }
                _ => {}
            }
            return Vec::new();
        }
        if el.is("presence", NS) {
            let Some(room) = from.split_once('/').map(|(r, _)| r.to_string()) else {
                return Vec::new();
            };
            if self.rooms.get(&room) != Some(&Setup::Joining)
                || !from.ends_with("/focus")
                || el.attr("to") != Some(self.opts.focus_jid().as_str())
            {
                return Vec::new();
            }
            if el.attr("type") == Some("error") {
                let condition = el
                    .get_child("error", NS)
                    .map(confab_proto::ErrorInfo::from_error_element)
                    .map(|e| e.condition)
                    .unwrap_or_else(|| "undefined-condition".into());
                self.rooms.insert(
                    room.clone(),
                    Setup::Failed(Refusal::new(
                        "undefined-condition",
                        format!("the focus could not join {room}: {condition}"),
                    )),
                );
                return self.settle();
            }
            let codes: Vec<StatusCode> = el
                .get_child("x", ns::MUC_USER)
                .map(|x| {
                    x.children()
                        .filter(|c| c.name() == "status")
                        .filter_map(|c| c.attr("code")?.parse::<u16>().ok())
                        .map(StatusCode::from)
                        .collect()
                })
                .unwrap_or_default();
            if !codes.contains(&StatusCode::SelfPresence) {
                return Vec::new();
            }
            if codes.contains(&StatusCode::RoomHasBeenCreated) {
                // A new room stays locked until configured: instant room.
                let id = self.id();
                self.configs.insert(id.clone(), room.clone());
                self.rooms.insert(room.clone(), Setup::Configuring);
                return vec![Out::Send(
                    stanza("iq")
                        .attr(nc("from"), self.opts.focus_jid())
                        .attr(nc("to"), room.as_str())
                        .attr(nc("id"), id)
                        .attr(nc("type"), "set")
                        // Non-anonymous, as Jitsi rooms are: clients
                        // know the focus by its real JID.
                        .append(owner::submit_config(&[(
                            "muc#roomconfig_whois".to_string(),
                            "anyone".to_string(),
                        )]))
                        .build(),
                )];
            }
            self.rooms.insert(room, Setup::Ready);
            return self.settle();
        }
        Vec::new()
    }
}

/// A TLS acceptor for the endpoint from PEM files.
fn acceptor(cert: &Path, key: &Path) -> std::io::Result<TlsAcceptor> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{what}: {e}"))
    };
    let certs = rustls_pemfile::certs(&mut &std::fs::read(cert)?[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&cert.display().to_string(), &e))?;
    let key = rustls_pemfile::private_key(&mut &std::fs::read(key)?[..])
        .map_err(|e| bad(&key.display().to_string(), &e))?
        .ok_or_else(|| bad(&key.display().to_string(), &"no private key"))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad("TLS", &e))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad("TLS", &e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Runs the focus until the component stream ends: requests over the
/// stream and (with `http`) over HTTP (HTTPS with `opts.tls`).
pub async fn serve(
    component: ComponentStream,
    http: Option<TcpListener>,
    opts: FocusOptions,
) -> std::io::Result<()> {
    let asks = http_asks(http, &opts)?;
    serve_with(component, asks, opts).await
}

/// HTTP requests waiting for the focus, shared by the streams of one
/// focus across reconnections.
type Asks = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<HttpAsk>>>;

/// Accepts HTTP(S) connections on `http` for as long as the process runs.
fn http_asks(http: Option<TcpListener>, opts: &FocusOptions) -> std::io::Result<Option<Asks>> {
    let Some(listener) = http else {
        return Ok(None);
    };
    let tls = match &opts.tls {
        Some((cert, key)) => Some(acceptor(cert, key)?),
        None => None,
    };
    let (tx, rx) = mpsc::unbounded_channel::<HttpAsk>();
    tokio::spawn(accept_http(listener, tls, tx));
    Ok(Some(Arc::new(tokio::sync::Mutex::new(rx))))
}

async fn serve_with(
    mut component: ComponentStream,
    asks: Option<Asks>,
    opts: FocusOptions,
) -> std::io::Result<()> {
    let mut core = Core::new(opts);
    let mut rx = match &asks {
        Some(a) => Some(a.lock().await),
        None => None,
    };
    let mut waiting: HashMap<u64, oneshot::Sender<Result<Conference, Refusal>>> = HashMap::new();
    let mut next = 0u64;
    let mut http_open = true;
    loop {
        let outs = tokio::select! {
            el = component.next() => match el {
                Some(el) => core.stanza(&el),
                None => return Ok(()),
            },
            ask = async { rx.as_mut().expect("guarded").recv().await },
                if http_open && rx.is_some() => match ask {
                Some(ask) => {
                    next += 1;
                    waiting.insert(next, ask.reply);
                    core.http_request(next, &ask.request)
                }
                None => {
                    http_open = false;
                    Vec::new()
                }
            },
        };
        for out in outs {
            match out {
                Out::Send(el) => component.send(&el).await?,
                Out::Answer { waiter, answer } => {
                    if let Some(reply) = waiting.remove(&waiter) {
                        let _ = reply.send(answer);
                    }
                }
            }
        }
    }
}

/// Binds the HTTP endpoint, then connects the component and [`serve`]s,
/// connecting again whenever the stream ends
/// ([`super::component::connect_and_serve`]).
pub async fn run(
    link: &Link,
    http: Option<std::net::SocketAddr>,
    opts: FocusOptions,
) -> anyhow::Result<()> {
    let listener = match http {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let asks = http_asks(listener, &opts)?;
    let jid = opts.jid.clone();
    super::component::connect_and_serve(link, &jid, |s| serve_with(s, asks.clone(), opts.clone()))
        .await?;
    Ok(())
}

struct HttpAsk {
    request: Conference,
    reply: oneshot::Sender<Result<Conference, Refusal>>,
}

async fn accept_http(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    tx: mpsc::UnboundedSender<HttpAsk>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let (tx, tls) = (tx.clone(), tls.clone());
        tokio::spawn(async move {
            let _ = match tls {
                Some(tls) => match tls.accept(stream).await {
                    Ok(s) => http_connection(s, tx).await,
                    Err(e) => Err(e),
                },
                None => http_connection(stream, tx).await,
            };
        });
    }
}

/// The largest request accepted.
const MAX_REQUEST: usize = 64 * 1024;

/// One request per connection (`Connection: close`).
async fn http_connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    tx: mpsc::UnboundedSender<HttpAsk>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 || buf.len() > MAX_REQUEST {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (
        first.next().unwrap_or_default().to_string(),
        first.next().unwrap_or_default().to_string(),
    );
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_REQUEST);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (status, text) = if path != proto::HTTP_PATH {
        (404, "{\"error\":\"not found\"}".to_string())
    } else if method != "POST" {
        (405, "{\"error\":\"use POST\"}".to_string())
    } else {
        match Conference::from_json(&String::from_utf8_lossy(&body)) {
            Err(e) => (400, serde_json::json!({"error": e.to_string()}).to_string()),
            Ok(request) => {
                let (reply, answer) = oneshot::channel();
                let _ = tx.send(HttpAsk { request, reply });
                match answer.await {
                    Ok(Ok(c)) => (200, c.to_json().to_string()),
                    Ok(Err(r)) => (
                        r.http_status(),
                        serde_json::json!({"error": r.condition, "text": r.text}).to_string(),
                    ),
                    Err(_) => (503, "{\"error\":\"the focus is gone\"}".to_string()),
                }
            }
        }
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    s.write_all(response.as_bytes()).await?;
    s.shutdown().await
}

#[cfg(test)]
mod tests;
